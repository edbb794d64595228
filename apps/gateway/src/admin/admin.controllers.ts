import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import type { OperatorIdentity } from '@app/operators';
import { AdminGuard, CurrentOperator } from './admin.guard';
import {
  CreateOfferDto,
  CreatePartnerDto,
  CreatePublisherDto,
  PostbackUrlQueryDto,
  UpdateOfferDto,
  UpdatePartnerDto,
  UpdatePublisherDto,
} from './admin.dto';
import { CatalogAdminService } from './catalog-admin.service';
import { partnerPostbackUrl, publicBaseUrl } from './partner-formats';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/offers')
export class OffersAdminController {
  constructor(@Inject(CatalogAdminService) private readonly admin: CatalogAdminService) {}

  @Post()
  @ApiOperation({ summary: 'Create an offer (409 if the id exists)' })
  create(@Body() dto: CreateOfferDto, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.createOffer(dto, op);
  }
  @Get() list() {
    return this.admin.list('offer');
  }
  @Get(':id') get(@Param('id') id: string) {
    return this.admin.get('offer', id);
  }
  @Patch(':id')
  @ApiOperation({ summary: 'Change some fields of an offer' })
  update(@Param('id') id: string, @Body() dto: UpdateOfferDto, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.updateOffer(id, dto, op);
  }
  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause: clicks answer 404 until resumed' })
  pause(@Param('id') id: string, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.setStatus('offer', id, 'paused', op);
  }
  @Post(':id/resume') @HttpCode(200) resume(
    @Param('id') id: string,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    return this.admin.setStatus('offer', id, 'active', op);
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/publishers')
export class PublishersAdminController {
  constructor(@Inject(CatalogAdminService) private readonly admin: CatalogAdminService) {}

  @Post() create(@Body() dto: CreatePublisherDto, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.createPublisher(dto, op);
  }
  @Get() list() {
    return this.admin.list('publisher');
  }
  @Get(':id') get(@Param('id') id: string) {
    return this.admin.get('publisher', id);
  }
  @Patch(':id') update(
    @Param('id') id: string,
    @Body() dto: UpdatePublisherDto,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    return this.admin.updatePublisher(id, dto, op);
  }
  @Post(':id/pause') @HttpCode(200) pause(@Param('id') id: string, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.setStatus('publisher', id, 'paused', op);
  }
  @Post(':id/resume') @HttpCode(200) resume(
    @Param('id') id: string,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    return this.admin.setStatus('publisher', id, 'active', op);
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/partners')
export class PartnersAdminController {
  constructor(
    @Inject(CatalogAdminService) private readonly admin: CatalogAdminService,
    @Inject(DataSource) private readonly ds: DataSource,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a partner; secrets and tokens are write-only' })
  create(@Body() dto: CreatePartnerDto, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.createPartner(dto, op);
  }
  @Get() list() {
    return this.admin.list('partner');
  }
  @Get(':id') get(@Param('id') id: string) {
    return this.admin.get('partner', id);
  }
  @Get(':id/postback-url')
  @ApiOperation({
    summary:
      "The postback URL to give the partner, in its platform's macro syntax, with what its auth needs (?base_url= overrides this gateway's address)",
  })
  postbackUrl(@Param('id') id: string, @Req() req: FastifyRequest, @Query() q: PostbackUrlQueryDto) {
    return partnerPostbackUrl(this.ds, id, publicBaseUrl(req, q.base_url));
  }
  @Patch(':id')
  @ApiOperation({
    summary: 'Change fields; auth replaces the whole auth block (rotation: send both secrets)',
  })
  update(@Param('id') id: string, @Body() dto: UpdatePartnerDto, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.updatePartner(id, dto, op);
  }
  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause: postbacks answer 403 until resumed' })
  pause(@Param('id') id: string, @CurrentOperator() op: OperatorIdentity) {
    return this.admin.setStatus('partner', id, 'paused', op);
  }
  @Post(':id/resume') @HttpCode(200) resume(
    @Param('id') id: string,
    @CurrentOperator() op: OperatorIdentity,
  ) {
    return this.admin.setStatus('partner', id, 'active', op);
  }
}
